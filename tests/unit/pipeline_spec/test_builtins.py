from __future__ import annotations

import pytest

from inferpipe.pipeline_spec.builtins import (
    builtin_image_uri,
    is_inferpipe_image,
    parse_ecr_uri,
    partition_domain,
)


@pytest.mark.parametrize(
    ("algorithm", "version", "region", "uri"),
    [
        (
            "xgboost",
            "1.7-1",
            "us-east-1",
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ),
        (
            "xgboost",
            "1.0-1",
            "eu-west-1",
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3",
        ),
        (
            "xgboost",
            "1.7-1",
            "cn-northwest-1",
            "451049120500.dkr.ecr.cn-northwest-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1",
        ),
        (
            "sklearn",
            "1.2-1",
            "us-gov-east-1",
            "237065988967.dkr.ecr.us-gov-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        ),
        (
            "sparkml-serving",
            "3.3",
            "us-iso-east-1",
            "833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-sparkml-serving:3.3",
        ),
        (
            "linear-learner",
            "1",
            "us-west-2",
            "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:1",
        ),
    ],
)
def test_builtin_images_resolve_per_region_and_partition(
    algorithm: str, version: str, region: str, uri: str
) -> None:
    assert builtin_image_uri(algorithm, version, region) == uri
    parsed = parse_ecr_uri(uri)
    assert parsed is not None and parsed.region == region


def test_partition_domains() -> None:
    assert partition_domain("cn-north-1") == "amazonaws.com.cn"
    assert partition_domain("us-isob-east-1") == "sc2s.sgov.gov"
    assert partition_domain("eu-central-2") == "amazonaws.com"


def test_unknown_algorithm_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: linear-learner, sklearn, sparkml-serving"):
        builtin_image_uri("prophet", "1", "us-east-1")


def test_non_ecr_images_are_not_parsed_and_inferpipe_images_are_recognised() -> None:
    assert parse_ecr_uri("127.0.0.1:5000/inferpipe-preprocess:latest") is None
    assert is_inferpipe_image("127.0.0.1:5000/inferpipe-preprocess:latest")
    assert not is_inferpipe_image(
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
