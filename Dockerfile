# BillingPulse application image: the web server (gunicorn), the Celery worker and
# Celery beat all run from it; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# System libraries: WeasyPrint (the printable note) needs pango and a font, which the slim
# image lacks; documents need tesseract (OCR) with its English model, poppler (PDF pages as
# images) and libmagic (content-type detection).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
        tesseract-ocr tesseract-ocr-eng poppler-utils libmagic1 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home billingpulse

COPY . .

# Static files are collected at build time with the production storage (hashed names,
# compressed); the throwaway values below exist only for this command.
RUN APP_ENV=production DEBUG=false ALLOWED_HOSTS=build.invalid \
        SECRET_KEY=build-time-only-not-a-real-secret-key-0123456789 \
        python manage.py collectstatic --noinput \
    && mkdir -p /data/media /data/chroma \
    && chown -R billingpulse:billingpulse /app/var /data

USER billingpulse

EXPOSE 8000

CMD ["gunicorn", "billingpulse.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
