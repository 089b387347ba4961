"""The engine stays free of UI code and of heavy imports until they are needed."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_never_imports_streamlit_or_loads_the_text_model_on_import():
    code = (
        "import sys, recsys_core, recsys_core.data, recsys_core.models, recsys_core.evaluation.runner, "
        "recsys_core.cold_start, recsys_core.projection, recsys_core.__main__\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported'\n"
        "assert 'sentence_transformers' not in sys.modules, 'sentence-transformers imported eagerly'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_cli_lists_models():
    result = subprocess.run([sys.executable, "-m", "recsys_core", "models"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("svd", "knn-basic", "knn-means", "knn-baseline", "coclustering", "content-tfidf", "content-sbert",
                 "baseline", "global-mean", "popular"):
        assert name in result.stdout
