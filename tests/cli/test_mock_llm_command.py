"""``agenthost mock-llm`` serves the OpenAI-compatible mock as its own process."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import httpx2
import openai
import pytest

from tests.waiting import eventually

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_mock_llm_command_answers_and_injects_faults() -> None:
    port = free_port()
    command = [sys.executable, "-m", "agenthost", "mock-llm", "--port", str(port)]
    command += ["--fault-rate", "1", "--fault-kinds", "503"]
    process = await asyncio.create_subprocess_exec(*command)
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def up() -> bool:
                try:
                    return (await http.get("/v1/models")).status_code == 200
                except httpx2.TransportError:
                    return False

            await eventually(up, timeout_s=30)
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="test", max_retries=0
        )
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": "hi"}]
            )
        await client.close()
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            await process.wait()


def test_mock_llm_command_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agenthost", "mock-llm", "--fault-kinds", "teapot"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown fault kinds" in result.stderr
