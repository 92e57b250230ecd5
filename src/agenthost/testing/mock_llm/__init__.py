"""An OpenAI-compatible mock LLM server for tests, demos and benchmarks.

Chat Completions and Responses (plain and streamed), a deterministic brain (see ``brain``),
and fault injection by rate, by admin queue (``/_mock/faults``) or by ``[[fault:KIND]]`` marker.
"""

from .app import create_mock_llm_app
from .config import FAULT_KINDS, MockLLMConfig
from .faults import FaultSpec
from .server import MockLLMServer, run_mock_llm
from .state import MockLLMState

__all__ = [
    "FAULT_KINDS",
    "FaultSpec",
    "MockLLMConfig",
    "MockLLMServer",
    "MockLLMState",
    "create_mock_llm_app",
    "run_mock_llm",
]
