"""Run a fuzz target: under atheris (libFuzzer, coverage-guided) when it is installed, else as
a plain hypothesis-driven loop. See fuzz/README.md.

    python fuzz/fuzz.py reference -max_total_time=60          # atheris
    python fuzz/fuzz.py dockerfile --hypothesis --examples 20000
    python fuzz/fuzz.py warm --hypothesis --examples 20000
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Seeds: real inputs, so the fuzzer starts from the interesting shapes. Copied into a scratch
# corpus under .pytest_cache (libFuzzer writes new inputs into the first corpus directory).
SEEDS = {
    "reference": [ROOT / "fixtures" / "vectors" / "image_references.tsv"],
    "dockerfile": sorted((ROOT / "fixtures" / "dockerfile").glob("*.in.*")),
    "warm": [],  # targets.WARM_SEEDS: raw registry answers, written by _seed_corpus
    "builds": [],  # a good index of the fuzz repository, written by `_seed_corpus`
}


def _seed_corpus(target: str) -> Path:
    corpus = ROOT / ".pytest_cache" / "fuzz-corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    if target == "warm":
        from fuzz.targets import WARM_SEEDS

        for index, answer in enumerate(WARM_SEEDS):
            (corpus / f"seed-{index}").write_bytes(answer)
    if target == "builds":
        from fuzz import targets

        (corpus / "seed-index").write_bytes(targets.index_seed())
    for index, seed in enumerate(p for p in SEEDS[target] if p.is_file()):
        if target == "reference":  # one reference per corpus entry: the TSV's first column
            for row, line in enumerate(seed.read_text(encoding="utf-8").splitlines()):
                name = line.split("\t", 1)[0]
                if name and not name.startswith("#"):
                    (corpus / f"seed-{row}").write_text(name, encoding="utf-8")
        else:
            shutil.copyfile(seed, corpus / f"seed-{index}")
    return corpus


def _atheris(target: str, rest: list[str]) -> None:
    import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

    with atheris.instrument_imports():
        from fuzz import targets
    function = targets.TARGETS[target]
    if not any(not arg.startswith("-") for arg in rest):
        rest = [*rest, str(_seed_corpus(target))]
    if not any(arg.startswith("-artifact_prefix=") for arg in rest):  # crashes: not in the cwd
        artifacts = ROOT / ".pytest_cache" / "fuzz-artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        rest = [f"-artifact_prefix={artifacts}/", *rest]
    atheris.Setup([sys.argv[0], *rest], function)
    atheris.Fuzz()


def _hypothesis(target: str, examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from fuzz import targets

    function = targets.TARGETS[target]
    seeds = [p.read_bytes() for p in _seed_corpus(target).iterdir()]
    inputs = st.one_of(
        st.binary(max_size=512),
        st.sampled_from(seeds),
        st.builds(
            lambda seed, cut, junk: seed[:cut] + junk + seed[cut:],
            st.sampled_from(seeds),
            st.integers(0, 400),
            st.binary(max_size=16),
        ),
    )

    @settings(
        max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(inputs)
    def run(data: bytes) -> None:
        function(data)

    run()
    print(f"{target}: {examples} examples, no failure")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("target", choices=["reference", "dockerfile", "warm", "builds"])
    parser.add_argument("--hypothesis", action="store_true", help="a plain loop, no atheris")
    parser.add_argument("--examples", type=int, default=5000)
    options, rest = parser.parse_known_args()
    if not options.hypothesis:
        try:
            import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
        except ImportError:
            print("atheris is not installed: running the hypothesis loop", file=sys.stderr)
        else:
            _atheris(options.target, rest)
            return
    _hypothesis(options.target, options.examples)


if __name__ == "__main__":
    main()
