"""Package layout that pyproject.toml cannot state: the top-level ``prompts/`` folder (the one
copy of the language model's prompt files) is shipped inside the package as ``vidagent/prompts``.
Everything else about the package is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["vidagent", "vidagent.*"]), "vidagent.prompts"],
    package_dir={"vidagent.prompts": "prompts"},
)
