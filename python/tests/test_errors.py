"""Bad input raises tandem.Error (a ValueError) with the CLI's message."""

import pytest

import tandem
from conftest import cli


def cli_error(*args):
    code, _, err = cli(*args, check=False)
    assert code == 1, err
    start = err.find("tandem: error: ")
    assert start >= 0, err
    return err[start + len("tandem: error: "):].rstrip("\n")


def test_error_is_a_value_error():
    assert issubclass(tandem.Error, ValueError)


def test_unknown_and_bad_settings_name_the_keyword(data_dir):
    with pytest.raises(tandem.Error, match=r"unknown setting epoch \(did you mean epochs\?\)"):
        tandem.train(preset="kerasrs", data=data_dir, epoch=1, progress=False)
    with pytest.raises(tandem.Error, match=r"epochs \(training.epochs\): must be"):
        tandem.train(preset="kerasrs", data=data_dir, epochs=0, progress=False)
    with pytest.raises(tandem.Error, match="ambiguous"):
        tandem.train(preset="kerasrs", data=data_dir, user=0, progress=False)
    with pytest.raises(tandem.Error, match="unknown preset|must be one of"):
        tandem.train(preset="nope", data=data_dir, progress=False)


def test_missing_and_corrupt_model_files_raise_the_cli_message(tmp_path):
    missing = tmp_path / "missing.tandem"
    with pytest.raises(tandem.Error) as e:
        tandem.load(missing)
    assert str(e.value) == cli_error("evaluate", "--model", missing)
    corrupt = tmp_path / "corrupt.tandem"
    corrupt.write_bytes(b"TANDEM" + b"\x00" * 100)
    with pytest.raises(tandem.Error) as e:
        tandem.load(corrupt)
    assert str(e.value) == cli_error("evaluate", "--model", corrupt)


def test_missing_data_directory_raises_the_cli_message(tmp_path):
    nowhere = tmp_path / "nowhere"
    with pytest.raises(tandem.Error) as e:
        tandem.train(preset="kerasrs", data=nowhere, progress=False)
    assert str(e.value) == cli_error("train", "--preset", "kerasrs", "--data", nowhere, "--quiet")


def test_bad_requests(kerasrs):
    model, _ = kerasrs
    with pytest.raises(tandem.Error, match="k"):
        model.recommend(5, k=0)
    with pytest.raises(tandem.Error, match=r"user 99999 \(pair 1\) is not in the model"):
        model.predict([5, 99999], [1, 2])
    with pytest.raises(tandem.Error, match=r"item 99999 \(pair 0\) is not in the catalogue"):
        model.predict([5], [99999])
    with pytest.raises(tandem.Error, match=r"item abc \(pair 0\) is not an integer id"):
        model.predict([5], ["abc"])
    with pytest.raises(tandem.Error, match="equally long"):
        model.predict([5, 6], [1])
    with pytest.raises(tandem.Error, match="cannot tell the format"):
        model.export("m.bin")


def test_bad_frames_name_the_column_and_row():
    pd = pytest.importorskip("pandas")
    ok = {"user_id": [1, 2], "item_id": [3, 4], "rating": [4.0, 5.0]}
    with pytest.raises(tandem.Error, match="no user column"):
        tandem.train(ratings=pd.DataFrame({"who": [1], "item_id": [2]}), progress=False)
    bad = dict(ok, rating=[4.0, float("nan")])
    with pytest.raises(tandem.Error, match="rating, row 1: nan is not a finite number"):
        tandem.train(ratings=pd.DataFrame(bad), progress=False)
    neg = dict(ok, user_id=[1, -2])
    with pytest.raises(tandem.Error, match="row 1: id -2 is negative"):
        tandem.train(ratings=pd.DataFrame(neg), progress=False)
    with pytest.raises(tandem.Error, match=r"ids=\"vocabulary\""):
        tandem.train(preset="kerasrs", ratings=pd.DataFrame(dict(ok, user_id=["a", "b"])), progress=False)
    with pytest.raises(tandem.Error, match="not both"):
        tandem.train(ratings=pd.DataFrame(ok), data="/tmp", progress=False)
