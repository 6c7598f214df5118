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


# A result number: a decimal, a percentage or a ratio ("93.6", "45%", "7.5x"); arXiv ids and versions
# are not results. Outside generated blocks, code and links, README and the findings page have none.
RESULT_NUMBER = re.compile(r"(?<![\w.\-/])(?<!arXiv )\d+(?:\.\d+)?(?:\s?%|x\b)|(?<![\w.\-/])(?<!arXiv )\d+\.\d+(?![\w.])")
HAND_CHECKED = ("README.md", "docs/findings.md")


def prose(text: str) -> str:
    from qubocnn.report.readme import BLOCK

    text = BLOCK.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code
    text = re.sub(r"`[^`]*`", "", text)  # inline code: options, file names, commands
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def test_readme_and_findings_type_no_result_number_by_hand():
    for name in HAND_CHECKED:
        found = RESULT_NUMBER.findall(prose((README.parent / name).read_text()))
        assert not found, f"{name}: numbers typed by hand outside generated blocks: {found}"


def test_the_number_check_finds_a_typed_number():
    assert RESULT_NUMBER.findall(prose("trust takes 23.7x SGD's time, 94.32% on MNIST")) == ["23.7x", "94.32%"]
    assert RESULT_NUMBER.findall(prose("see arXiv 2603.02958 and `--lam 1e-3`, K = 5")) == []
    assert RESULT_NUMBER.findall(prose("<!-- table:x -->\n| 93.6 |\n<!-- end table:x -->\n")) == []


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= 200
