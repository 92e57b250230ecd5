"""The process's one model provider: model names → resilient models over deployments.

Each logical model name resolves to
``BudgetModel(RetryingModel(RouterModel([BreakerModel(MeteredModel(CallTimeoutModel(sdk_model)))])))``
over the deployments that serve it, ``sdk_model`` being the SDK's Chat Completions or Responses
model over the deployment's client (lean or openai, see :mod:`agenthost.models.clients`).
Clients and breakers belong to deployments and are shared
by every model name a deployment serves. Without deployments and without an OpenAI key every
name resolves to the offline :class:`~agenthost.models.demo.DemoModel`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from agents.models.interface import Model, ModelProvider

from agenthost.errors import AgentHostError, InternalError
from agenthost.models.breaker import BreakerConfig, CircuitBreaker
from agenthost.models.breaker_model import BreakerModel
from agenthost.models.budget import BudgetModel
from agenthost.models.call_timeout import CallTimeoutModel
from agenthost.models.clients import NO_KEY, KeySource, ModelClient, build_client, build_model
from agenthost.models.demo import DemoModel
from agenthost.models.metered import MeteredModel
from agenthost.models.retry import RetryingModel, RetryPolicy
from agenthost.models.router import Deployment, RouterModel
from agenthost.security.secrets import SecretStore
from agenthost.settings import DeploymentSettings, Settings
from agenthost.telemetry.metrics import Metrics

logger = logging.getLogger(__name__)

WILDCARD = "*"


def effective_deployments(settings: Settings) -> list[DeploymentSettings]:
    """Configured deployments, or one implicit OpenAI deployment serving every name."""
    if settings.deployments:
        return list(settings.deployments)
    return [
        DeploymentSettings(
            name="openai",
            model=WILDCARD,
            serves=[WILDCARD],
            base_url=settings.openai_base_url,
            api="responses",
        )
    ]


def settings_serve(settings: Settings, model_name: str | None) -> bool:
    """Whether ``settings`` have a deployment (or the demo model) serving ``model_name``,
    without building any client (what the provider's :meth:`~AgentHostModelProvider.serves`
    answers)."""
    if settings.uses_demo_model:
        return True
    name = model_name or settings.default_model
    return bool(_serving(effective_deployments(settings), name))


def _serving(deployments: list[DeploymentSettings], name: str) -> list[DeploymentSettings]:
    exact = [d for d in deployments if name in d.served_names]
    return exact or [d for d in deployments if WILDCARD in d.served_names]


class AgentHostModelProvider(ModelProvider):
    def __init__(self, settings: Settings, secrets: SecretStore, metrics: Metrics) -> None:
        self._settings = settings
        self._metrics = metrics
        self._demo = DemoModel() if settings.uses_demo_model else None
        self._deployments = [] if self._demo else effective_deployments(settings)
        self._clients: dict[str, ModelClient] = {
            d.name: build_client(d, self._key_source(d, secrets)) for d in self._deployments
        }
        breaker_config = BreakerConfig(
            failure_threshold=settings.breaker_failure_threshold,
            window_s=settings.breaker_window_s,
            cooldown_s=settings.breaker_cooldown_s,
            failure_ratio=settings.breaker_failure_ratio,
        )
        self.breakers = {
            d.name: CircuitBreaker(
                d.name,
                breaker_config,
                on_change=lambda name, state: metrics.set_breaker_state(name, state.value),
            )
            for d in self._deployments
        }
        for breaker in self.breakers.values():
            metrics.set_breaker_state(breaker.name, breaker.state.value)
        self._policy = RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
        )
        self._models: dict[str, Model] = {}

    def _key_source(self, deployment: DeploymentSettings, secrets: SecretStore) -> KeySource:
        """The deployment's key as of now: asked on every call, so rotations apply at once."""
        secret = deployment.api_key or self._settings.openai_api_key

        async def current_key() -> str:
            return secrets.reveal(secret) or NO_KEY

        return current_key

    @property
    def is_demo(self) -> bool:
        return self._demo is not None

    def serves(self, model_name: str | None) -> bool:
        return self._demo is not None or bool(self._deployments_for(self._resolve(model_name)))

    def get_model(self, model_name: str | None) -> Model:
        if self._demo is not None:
            return self._demo
        name = self._resolve(model_name)
        model = self._models.get(name)
        if model is None:
            model = self._models[name] = self._build(name)
        return model

    def _resolve(self, model_name: str | None) -> str:
        return model_name or self._settings.default_model

    def _deployments_for(self, name: str) -> list[DeploymentSettings]:
        return _serving(self._deployments, name)

    def _build(self, name: str) -> Model:
        chosen = self._deployments_for(name)
        if not chosen:
            raise InternalError(f"no model deployment serves model {name!r}")
        router = RouterModel(
            name,
            [
                Deployment(
                    name=d.name,
                    model=BreakerModel(
                        MeteredModel(
                            CallTimeoutModel(
                                build_model(d, self._clients[d.name], name),
                                d.call_timeout_s,
                                d.name,
                            ),
                            self._metrics,
                            d.name,
                            name if d.model == WILDCARD else d.model,
                        ),
                        self.breakers[d.name],
                    ),
                    weight=d.weight,
                )
                for d in chosen
            ],
            self._settings.routing_strategy,
        )
        retries = self._metrics.model_retries

        def count_retry(error: AgentHostError, wait: float) -> None:
            retries.labels(name, error.code.value).inc()

        return BudgetModel(RetryingModel(router, self._policy, on_retry=count_retry))

    def missing(self, model_names: Iterable[str | None]) -> list[str]:
        """Names no deployment serves (checked at start-up so a bad config fails early)."""
        return sorted({self._resolve(n) for n in model_names if not self.serves(n)})

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        self._models.clear()
