"""The reviewer workspace (``claimcheck serve``): a small FastAPI app over the claim store.

Kept import-light: FastAPI is imported by ``pipeline.web.app`` only, so ``claimcheck labels``
and ``claimcheck users`` do not pay for it.
"""
