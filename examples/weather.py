"""A function tool: the agent calls ``get_weather`` and answers from its result."""

from __future__ import annotations

from agents import Agent, function_tool

# Deterministic stand-in data: an example must run offline. A real tool would call a service.
_FORECASTS = {
    "paris": "light rain, 14 °C",
    "london": "overcast, 12 °C",
    "tokyo": "clear, 19 °C",
}


@function_tool
def get_weather(city: str) -> str:
    """Get today's weather forecast for a city."""
    forecast = _FORECASTS.get(city.strip().lower())
    if forecast is None:
        return f"No forecast available for {city}."
    return f"The weather in {city} today: {forecast}."


weather_agent = Agent(
    name="weather",
    instructions="You answer questions about the weather. Always use the get_weather tool.",
    tools=[get_weather],
    handoff_description="Answers questions about the weather in a city.",
)
