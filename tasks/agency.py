"""Agency mode: what the agency owes a creditor at the end of that creditor's daily run."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.retries import SAFE_RETRIES


@task(name="creditor-obligations", cache_policy=NO_CACHE, **SAFE_RETRIES)
def creditor_obligations(creditor: str, as_of: date, actor: str) -> dict:
    """Agency payments into the ledger, the R124-5 digest, the creditor's report when due,
    remittance warnings (recouvrement/services/agency/obligations.py); every mail once."""
    from recouvrement.services.agency.obligations import after_creditor_run
    from recouvrement.services.agency.selection import creditor_record
    from recouvrement.config.settings import load_agency_settings

    agency = load_agency_settings()
    summary = after_creditor_run(agency, creditor_record(agency, creditor), as_of, actor=actor)
    logger = get_run_logger()
    for warning in summary["warnings"]:
        logger.warning(warning)
    return summary
