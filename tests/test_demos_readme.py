"""demos/README.md lists every demo once, in lecture order, and the main README links it:
a new demo without its line (or a line for a demo that is gone) fails here."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = os.path.join(ROOT, "demos")
INDEX = os.path.join(DEMOS, "README.md")
ITEM = re.compile(r"^- `(\w+\.py)` — \S")          # "- `name.py` — what it shows"


def index_lines():
    with open(INDEX, encoding="utf-8") as f:
        return f.read().splitlines()


def listed():
    return [m.group(1) for m in map(ITEM.match, index_lines()) if m]


def test_every_demo_file_is_listed_once():
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DEMOS, "*.py")))
    names = listed()
    assert sorted(set(names)) == sorted(names), "a demo is listed twice"
    assert not set(files) - set(names), f"not in demos/README.md: {sorted(set(files) - set(names))}"
    assert not set(names) - set(files), f"listed but not in demos/: {sorted(set(names) - set(files))}"


def test_sections_follow_the_lectures():
    headings = [line for line in index_lines() if line.startswith("## ")]
    lectures = [re.match(r"## (L6\.\d)", h).group(1) for h in headings if h.startswith("## L6.")]
    assert lectures == ["L6.1", "L6.2", "L6.3", "L6.4"], headings


def demos_under(lecture):
    lines, inside, names = index_lines(), False, []
    for line in lines:
        if line.startswith("## "):
            inside = line.startswith(f"## {lecture} ")
        elif inside and ITEM.match(line):
            names.append(ITEM.match(line).group(1))
    return names


def test_demos_sit_under_their_lecture():
    assert "classic_joint_table.py" in demos_under("L6.1")
    assert "classic_latent_dirichlet.py" in demos_under("L6.2")
    assert {"autoregressive.py", "flows.py", "ddpm.py"} <= set(demos_under("L6.3"))
    assert {"gan_toy.py", "dcgan.py", "stylegan.py"} <= set(demos_under("L6.4"))


def test_the_main_readme_links_the_demo_index():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert "(demos/README.md)" in f.read()
