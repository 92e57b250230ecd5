"""``python -m agenthost`` is the ``agenthost`` command."""

from agenthost.cli.main import main

main()
