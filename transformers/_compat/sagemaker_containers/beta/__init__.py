"""`sagemaker_containers.beta`: only `framework` is provided."""
