import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
# the example's settings, and the small ones the test runs it with
SMALL = {"bits=10": "bits=3", "iterations=30": "iterations=2", '"num_reads": 10': '"num_reads": 2',
         "num_reads=10": "num_reads=2"}


def python_example() -> str:
    section = README.read_text().split("## Use it from Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_use_it_from_python_example_runs(capsys):
    code = python_example()
    for setting, small in SMALL.items():
        assert setting in code, setting
        code = code.replace(setting, small)
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", printed).group(1))
    assert accuracy > 0.5  # 10 classes: far above chance even with these settings
    assert "head (56, 10)" in printed  # 55 features kept + bias, 10 classes
