"""How hard the workflow retries each kind of side effect before an operator hears of it."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Our own databases and files: retried until they come back.
LOCAL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))

# Mail: an outage is waited out; a message the provider refuses for good is not resent.
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["MailRejected"],
)

# Providers: transient failures retried with backoff; a permanent refusal, or a day of failing,
# makes the provider an operator task instead of failing the request.
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["ProviderRejected", "ProviderMisconfigured"],
)
PROVIDER_GIVE_UP_AFTER = timedelta(days=1)
