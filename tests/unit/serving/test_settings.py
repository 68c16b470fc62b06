from __future__ import annotations

import logging
from pathlib import Path

import pytest

from inferpipe.protocol.errors import ConfigError
from inferpipe.serving.settings import ServingSettings


def test_defaults_follow_the_sagemaker_contract() -> None:
    settings = ServingSettings.from_environ({})
    assert settings.port == 8080
    assert settings.timeout == 60
    assert settings.max_payload_bytes == 6 * 1024 * 1024
    assert settings.model_dir == Path("/opt/ml/model")
    assert settings.default_accept is None
    assert settings.worker_count >= 1


def test_variables_are_parsed_into_real_types() -> None:
    settings = ServingSettings.from_environ(
        {
            "SAGEMAKER_BIND_TO_PORT": "9000",
            "SAGEMAKER_SAFE_PORT_RANGE": "20000-20999",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json; charset=utf-8",
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
            "SAGEMAKER_BATCH": "true",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20",
            "SAGEMAKER_BATCH_STRATEGY": "single_record",
        }
    )
    assert settings.port == 9000
    assert settings.safe_port_range == (20000, 20999)
    assert settings.workers == 3 and settings.concurrent_transforms == 3
    assert settings.default_accept == "application/json"
    assert settings.log_level == logging.INFO
    assert settings.batch is True and settings.max_payload_mb == 20
    assert settings.batch_strategy == "SINGLE_RECORD"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "many", "'many' is not a positive integer"),
        ("SAGEMAKER_BIND_TO_PORT", "70000", "is not a TCP port"),
        ("SAGEMAKER_SAFE_PORT_RANGE", "20000", "is not a port range"),
        ("SAGEMAKER_BATCH", "maybe", "is not a boolean"),
        ("SAGEMAKER_CONTAINER_LOG_LEVEL", "LOUD", "is not a log level"),
        ("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "csv", "is not a media type"),
    ],
)
def test_bad_values_fail_naming_variable_and_value(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=variable) as raised:
        ServingSettings.from_environ({variable: value})
    assert message in raised.value.message


def test_overrides_win_over_the_environment() -> None:
    settings = ServingSettings.from_environ({"SAGEMAKER_BIND_TO_PORT": "9000"}, port=7000)
    assert settings.port == 7000


def test_blank_values_mean_unset() -> None:
    assert ServingSettings.from_environ({"INFERPIPE_STAGE": ""}).stage is None


def test_default_accept_keeps_a_format_parameter_and_drops_charset() -> None:
    from inferpipe.serving.settings import ServingSettings

    settings = ServingSettings.from_environ(
        {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/jsonlines; data=text; charset=utf-8"}
    )
    assert settings.default_accept == "application/jsonlines;data=text"
