"""A structured output: the agent returns a validated pydantic object, not free text."""

from __future__ import annotations

from typing import Literal

from agents import Agent
from pydantic import BaseModel, Field


class TicketSummary(BaseModel):
    title: str = Field(description="One-line summary of the request")
    priority: Literal["low", "normal", "high"]
    tags: list[str] = Field(description="Short topic tags")


ticket_agent = Agent(
    name="ticket",
    instructions="Summarise the customer's message as a support ticket.",
    output_type=TicketSummary,
)
