"""agenthost: run OpenAI Agents SDK agents in production.

The public front door; everything else is private mechanics.
"""

from agenthost.errors import AgentHostError, ErrorCode
from agenthost.registry import AgentPolicy, AgentRegistry
from agenthost.security.input import InputPolicy

__version__ = "0.1.0"

__all__ = [
    "AgentHostError",
    "AgentPolicy",
    "AgentRegistry",
    "ErrorCode",
    "InputPolicy",
    "__version__",
]
