"""DataProcessing in the spec: validated, rendered (botocore-checked, CloudFormation), and
applied to records as SageMaker's documented examples show."""

from __future__ import annotations

from typing import Any

import pytest

from inferpipe.pipeline_spec.botocore_check import check_request
from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.loader import parse_spec
from inferpipe.pipeline_spec.local.data_processing import DataProcessor
from inferpipe.pipeline_spec.model import DataProcessingSpec
from inferpipe.pipeline_spec.render_aws import render_create_transform_job
from inferpipe.pipeline_spec.render_cfn import TRANSFORM_JOB_PROPERTIES, render_transform_template

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/inferpipe-preprocess:1"


def _processor(content_type: str, **settings: str) -> DataProcessor:
    processor = DataProcessor.for_job(DataProcessingSpec(**settings), content_type)  # type: ignore[arg-type]
    assert processor is not None
    return processor


def test_csv_join_appends_the_answer_to_the_input_record() -> None:
    # The documentation's example: record [1,2,3], label [1] -> [1,2,3,1].
    processor = _processor("text/csv", join_source="Input")
    assert processor.finish(b"1,2,3", b"1", "r") == b"1,2,3,1"


def test_the_id_column_is_kept_out_of_the_model_and_joined_back() -> None:
    processor = _processor(
        "text/csv", input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]"
    )
    record = b'id-7,M,0.455,"a, quoted",0.095'
    assert processor.filter_input(record, "r") == b'M,0.455,"a, quoted",0.095'
    assert processor.finish(record, b"9.25", "r") == b"id-7,9.25"
    lines = processor.finish_batch([record, b"id-8,F,1,2,3"], b"9.25\n7.5\n", "f", 1)
    assert lines == [b"id-7,9.25", b"id-8,7.5"]


def test_json_records_gain_sagemaker_output_or_are_wrapped() -> None:
    processor = _processor("application/jsonlines", join_source="Input")
    assert processor.finish(b'{"key":1}', b'{"label":1}', "r") == (
        b'{"key":1,"SageMakerOutput":{"label":1}}'
    )
    assert processor.finish(b"[1,2]", b"[0.5]", "r") == (
        b'{"SageMakerInput":[1,2],"SageMakerOutput":[0.5]}'
    )
    selected = _processor(
        "application/jsonlines",
        input_filter="$.features",
        join_source="Input",
        output_filter="$['id','SageMakerOutput']",
    )
    record = b'{"id": "a", "features": [1, 2], "note": "x"}'
    assert selected.filter_input(record, "r") == b"[1,2]"
    assert selected.finish(record, b'{"score": 3.5}', "r") == (
        b'{"id":"a","SageMakerOutput":{"score":3.5}}'
    )


def test_defaults_do_nothing_and_bad_records_or_answers_are_named() -> None:
    assert DataProcessor.for_job(DataProcessingSpec(), "text/csv") is None
    processor = _processor("text/csv", input_filter="$[3]", join_source="Input")
    with pytest.raises(DeployError, match=r"in.csv record 2: '\$\[3\]': index 3 is outside"):
        processor.filter_input(b"a,b", "in.csv record 2")
    with pytest.raises(DeployError, match="answered 1 lines for 2 records"):
        processor.finish_batch([b"a,b,c,d", b"e,f,g,h"], b"1\n", "in.csv", 1)
    jsonl = _processor("application/jsonlines", join_source="Input")
    with pytest.raises(DeployError, match="r: the answer is not JSON"):
        jsonl.finish(b'{"a": 1}', b"0.5,1", "r")


def _spec(transform: dict[str, Any]) -> Any:
    return parse_spec(
        {
            "spec_version": 1, "region": "us-east-1", "endpoint": "e",
            "models": {"m": {"role": ROLE, "containers": [{"name": "c", "image": IMAGE}]}},
            "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
            "transform": {"model": "m", "input": "s3://bucket-in/x", "output": "s3://bucket-out/y",
                          **transform},
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ({"data_processing": {"input_filter": "$.id"}},
         r"input_filter: '\$.id' selects by name, but a CSV record is an array"),
        ({"data_processing": {"output_filter": "$..x"}}, "output_filter: .*recursive descent"),
        ({"accept": "application/json", "data_processing": {"join_source": "Input"}},
         "transform.accept: with DataProcessing the answers must be text/csv"),
        ({"split_type": "None", "strategy": "SingleRecord",
          "data_processing": {"join_source": "Input"}}, "needs split_type Line"),
        ({"content_type": "text/libsvm", "data_processing": {"join_source": "Input"}},
         "DataProcessing works on application/json, application/jsonlines, text/csv"),
    ],
)  # fmt: skip
def test_data_processing_sagemaker_would_refuse_is_refused(
    transform: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        _spec(transform)


def test_rendered_job_and_template_carry_data_processing_and_pass_botocore() -> None:
    spec = _spec(
        {"data_processing": {"input_filter": "$[1:]", "join_source": "Input",
                             "output_filter": "$[0,-1]"}}
    )  # fmt: skip
    request = render_create_transform_job(spec)
    assert request is not None
    assert request["DataProcessing"] == {
        "InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"
    }  # fmt: skip
    assert check_request("CreateTransformJob", request) == []
    template = render_transform_template(spec)
    assert template is not None
    resource = template["Resources"]["BatchTransform"]
    assert resource["Type"] == "AWS::SageMaker::TransformJob"
    properties = resource["Properties"]
    assert set(properties) <= TRANSFORM_JOB_PROPERTIES
    assert properties["DataProcessing"] == request["DataProcessing"]
    # The resource's properties are CreateTransformJob's shapes (CloudFormation names the job).
    named = {**properties, "TransformJobName": request["TransformJobName"]}
    assert check_request("CreateTransformJob", named) == []
    assert render_transform_template(_spec({})) is not None
