"""Every new practice starts with the common denial codes in its knowledge base."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from billingpulse.models import Practice


@receiver(post_save, sender=Practice, dispatch_uid="ai.starter_knowledge")
def give_new_practice_the_starter_set(sender, instance: Practice, created: bool, raw: bool = False, **kwargs) -> None:
    # raw: loading a fixture, which brings its own rows. The codes are written in the
    # practice's own transaction; their index entries follow once it commits.
    if created and not raw:
        from ai.services import install_starter_set

        install_starter_set(instance.pk)
