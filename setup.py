"""Package discovery that pyproject.toml cannot express alone.

Every package under src/ is found automatically (a new folder with an __init__.py ships without
anyone remembering to list it), plus the watchlists, which live at the top of the repository
because users edit them, and are installed as `regwatch.watchlists`. The systemd unit and the
example config go to `<prefix>/share/regwatch/` (for a venv at /opt/regwatch:
/opt/regwatch/share/regwatch/), where an operator installing from a wheel finds them.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "regwatch.watchlists"],
    package_dir={"": "src", "regwatch.watchlists": "watchlists"},
    data_files=[("share/regwatch", ["config.example.toml", "systemd/regwatch.service", "README.md"])],
)
