"""Sign-in and session security, in one place.

* ``sessions``   — the idle timeout: when a session last saw its person act, and how long it has left
* ``two_factor`` — optional TOTP sign-in (django-otp) with backup codes, and the practice's requirement
* ``lockout``    — django-axes' lockout after repeated failed sign-ins: the message and the unlock
* ``middleware`` — the security headers on every answer, the idle timeout and the two-factor step
* ``views``      — the sign-in security page, two-factor set-up and verification, the session ping

Roles (admin or staff) are decided in ``billingpulse.tenancy``, not here.
"""
