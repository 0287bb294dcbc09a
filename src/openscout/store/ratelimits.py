"""The rate-limit counters (spec §4): one upsert per request, shared by every process."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case

from openscout.store.base import Hit
from openscout.store.dialect import OnConnection
from openscout.store.tables import rate_limits


class RateLimitRows(OnConnection):
    def count_hits(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        # One upsert for every period: processes on one database count together, and a row
        # holds only its current window (a later window replaces the count; an earlier one,
        # from a process whose clock lags, adds to the current one).
        self.dialect.relax_durability(self.connection)
        statement = self.dialect.upsert(rate_limits).values(
            [
                {
                    "account_id": account_id,
                    "period": hit.period,
                    "period_start": hit.start,
                    "hits": hit.weight,
                }
                for hit in hits
            ]
        )
        excluded = statement.excluded
        is_later = excluded.period_start > rate_limits.c.period_start
        upsert = statement.on_conflict_do_update(
            index_elements=[rate_limits.c.account_id, rate_limits.c.period],
            set_={
                "period_start": case(
                    (is_later, excluded.period_start), else_=rate_limits.c.period_start
                ),
                "hits": case(
                    (is_later, excluded.hits),
                    else_=rate_limits.c.hits + excluded.hits,
                ),
            },
        ).returning(rate_limits.c.period, rate_limits.c.hits)
        return {row.period: int(row.hits) for row in self.connection.execute(upsert)}
