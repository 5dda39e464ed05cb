"""The one place calls are made from: client + journal.

The console and the CLI both go through :class:`Service`, so a mutating call
is always journalled before it is sent and completed after.
"""

from __future__ import annotations

from dataclasses import dataclass

from mobitui.core.client import MobivateClient, PlannedRequest, Result
from mobitui.core.config import Campaign, Config
from mobitui.core.journal import Journal
from mobitui.core.recorder import Recorder


@dataclass
class Service:
    config: Config
    client: MobivateClient
    journal: Journal
    demo: bool = False

    @classmethod
    def open(
        cls,
        config: Config,
        api_key: str | None,
        journal: Journal,
        recorder: Recorder | None = None,
        demo: bool = False,
        concurrency: int | None = None,
        transport: object | None = None,
    ) -> Service:
        client = MobivateClient(
            config,
            api_key,
            recorder=recorder,
            transport=transport,  # type: ignore[arg-type]
            concurrency=concurrency or config.bulk.concurrency,
        )
        return cls(config, client, journal, demo)

    @property
    def recorder(self) -> Recorder:
        return self.client.recorder

    async def aclose(self) -> None:
        await self.client.aclose()

    async def status(self, campaign: Campaign, msisdn: str, job_id: int | None = None) -> Result:
        result = await self.client.status(campaign, msisdn)
        self.journal.record(campaign, result, job_id)
        return result

    async def unsubscribe(
        self, campaign: Campaign, msisdn: str, job_id: int | None = None
    ) -> Result:
        row = self.journal.begin(
            campaign, msisdn, "unsubscribe", campaign.unsubscribe_via.value, job_id
        )
        result = await self.client.unsubscribe(campaign, msisdn, reference=f"mobitui-{row}")
        self.journal.finish(row, result)
        return result

    def plan_unsubscribe(self, campaign: Campaign, msisdn: str) -> PlannedRequest:
        return self.client.plan_unsubscribe(campaign, msisdn)
