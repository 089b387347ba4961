"""Data page: the sample on the first visit, uploads with an editable mapping, readable errors."""
from __future__ import annotations

from app_helpers import csv_bytes, movielens_frames, new_app, plotly_charts, texts


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_sample_is_loaded_on_the_first_visit_with_summary_and_charts():
    at = new_app()
    assert not at.error
    assert metric(at, "Users") == "600"
    assert metric(at, "Items") == "1,500"
    assert metric(at, "Ratings") == "45,000"
    assert metric(at, "Density") == "5%"  # one rule for shares on every page (recsys_ui.fmt.percent)
    # rating histogram, long tail, ratings per user, genre counts
    assert len(plotly_charts(at)) == 4
    assert [b.label for b in at.get("download_button")] == [
        "Download ratings.csv", "Download plays.tsv", "Download items.csv", "Download users.csv"]
    assert any("sample" in caption for caption in texts(at.sidebar.caption))


def test_uploaded_movielens_files_replace_the_sample(movielens_bytes):
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("ratings.csv", movielens_bytes["ratings.csv"], "text/csv")
    at.file_uploader(key="upload_items").upload("movies.csv", movielens_bytes["movies.csv"], "text/csv")
    at.run()
    assert not at.exception
    # The mapping is pre-filled from the detected format and shown with a preview.
    mapping = {s.label: s.value for s in at.selectbox}
    assert mapping["User id"] == "userId" and mapping["Item id"] == "movieId"
    assert mapping["Rating (optional)"] == "rating" and mapping["Timestamp (optional)"] == "timestamp"
    assert mapping["Title (optional)"] == "title" and mapping["Genres (optional)"] == "genres"
    assert len(at.dataframe) >= 2  # previews
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error
    ratings, movies, _ = movielens_frames()
    assert metric(at, "Users") == str(ratings["userId"].nunique())
    assert metric(at, "Ratings") == str(len(ratings))
    assert any("Loaded" in s for s in texts(at.success))
    assert at.session_state["dataset"].items["title"].iloc[0] in set(movies["title"])
    # One click back to the sample.
    next(b for b in at.button if b.label == "Go back to the bundled sample").click().run()
    assert not at.exception and metric(at, "Users") == "600"


def test_the_column_mapping_can_be_chosen_by_hand():
    ratings, _, _ = movielens_frames(n_users=20, n_items=30)
    unusual = ratings.rename(columns={"userId": "who", "movieId": "what", "rating": "grade", "timestamp": "when_ts"})
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("export.csv", csv_bytes(unusual, sep=";"), "text/csv")
    at.run()
    assert not at.exception
    selects = {s.label: s for s in at.selectbox}
    selects["User id"].set_value("who")
    selects["Item id"].set_value("what")
    selects["Rating (optional)"].set_value("grade")
    at.run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert metric(at, "Users") == str(ratings["userId"].nunique())
    assert at.session_state["dataset"].name == "export"


def test_an_invalid_file_shows_a_readable_error_and_keeps_the_sample():
    ratings, _, _ = movielens_frames(n_users=10, n_items=20)
    broken = csv_bytes(ratings).decode().splitlines()
    broken[3] = broken[3].rsplit(",", 2)[0] + ",five stars," + broken[3].rsplit(",", 1)[1]
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("ratings.csv", "\n".join(broken).encode(), "text/csv")
    at.run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception
    [message] = texts(at.error)
    # The file, the column and the line, in words.
    assert message.startswith("ratings.csv: column 'rating' is not a number") and "line 4 ('five stars')" in message
    assert "Traceback" not in message
    assert any("still using" in info for info in texts(at.info))
    assert metric(at, "Users") == "600"  # the sample is still the active data set
    assert at.button  # the page is still usable


def test_a_binary_file_is_refused_before_loading():
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("ratings.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    at.run()
    assert not at.exception
    assert any("not a text file" in e or "PNG" in e for e in texts(at.error))
    load = next(b for b in at.button if b.label == "Load these files")
    assert load.disabled


def test_a_header_detection_can_be_overridden_before_loading():
    # A header of numbers only ("0,1,2", as pandas writes integer column names) reads as data by default.
    content = b"0,1,2\n1,10,4\n2,10,5\n2,11,3\n"
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("export.csv", content, "text/csv")
    at.run()
    assert not at.exception
    assert any("no header line" in text for text in texts(at.caption))
    next(s for s in at.selectbox if s.label == "First line is a header").set_value("yes").run()
    assert any("with a header line" in text for text in texts(at.caption))
    selects = {s.label: s for s in at.selectbox}
    selects["User id"].set_value("0")
    selects["Item id"].set_value("1")
    selects["Rating (optional)"].set_value("2")
    at.run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.session_state["dataset"].n_ratings == 3


def test_malformed_lines_can_be_skipped_after_the_error_and_are_listed():
    ratings, _, _ = movielens_frames(n_users=10, n_items=20)
    lines = csv_bytes(ratings).decode().splitlines()
    lines[4] = "1,2"  # line 5: cut off
    content = ("\n".join(lines) + "\nexported by a spreadsheet\n").encode()
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("ratings.csv", content, "text/csv")
    at.run()
    at.text_input[0].set_value("my export").run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception
    [message] = texts(at.error)
    assert message.startswith("ratings.csv: 2 lines do not have 4 fields") and "line 5 (2 fields)" in message
    assert metric(at, "Users") == "600"  # nothing loaded yet: still the sample
    # The error stays on the next run (any widget), with the offer to skip.
    at.run()
    assert texts(at.error) == [message]
    [skip] = [c for c in at.checkbox if c.label == "Skip the malformed lines (they will be listed)"]
    skip.check().run()
    assert not at.exception and not at.error, texts(at.error)
    data = at.session_state["dataset"]
    assert data.name == "my export"  # the name typed before the error is kept
    assert data.n_ratings == len(ratings) - 1
    assert any("Skipped lines are listed" in s for s in texts(at.success))
    note = f"ratings.csv: skipped 2 malformed lines without 4 fields (separator: comma): line 5 (2 fields), " \
           f"line {len(lines) + 1} (1 field)."
    assert note in data.report
    assert any(note in text for text in texts(at.markdown))  # listed under the summary


def test_a_load_error_goes_away_when_the_files_change():
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("ratings.csv", b"user,item,rating\n1,2,4\n1,3\n", "text/csv")
    at.run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert texts(at.error) and [c.label for c in at.checkbox] == ["Skip the malformed lines (they will be listed)"]
    at.file_uploader(key="upload_ratings").upload("ratings.csv", b"user,item,rating\n1,2,4\n1,3,5\n", "text/csv")
    at.run()
    assert not at.error and not at.checkbox


HETREC = ("userID\tartistID\tweight\n" + "".join(
    f"{u}\t{a}\t{(u * 37 + a * 101) ** 2 % 9000 + 1}\n" for u in range(2, 40) for a in range(51, 75) if (u + a) % 4)).encode()


def test_lastfm_play_counts_are_detected_mapped_and_loaded_as_counts():
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("user_artists.dat", HETREC, "text/plain")
    at.run()
    assert not at.exception
    mapping = {s.label: s.value for s in at.selectbox}
    # Not user metadata, and the item id is not the user column again.
    assert mapping["User id"] == "userID" and mapping["Item id"] == "artistID"
    assert mapping["Rating (optional)"] == "weight" and mapping["What the values are"] == "auto"
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error
    assert metric(at, "Feedback") == "counts (implicit)"
    values = [int(line.split("\t")[2]) for line in HETREC.decode().splitlines()[1:]]
    assert metric(at, "Counts") == f"{min(values)} – {max(values)}"
    assert any("read as counts" in c and "column 'weight'" in c for c in texts(at.caption))
    assert any("read as counts (implicit)" in s for s in texts(at.success))


def test_the_values_can_be_declared_ratings_instead():
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("user_artists.dat", HETREC, "text/plain")
    at.run()
    next(s for s in at.selectbox if s.label == "What the values are").set_value("ratings").run()
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error
    assert at.session_state["dataset"].feedback_kind == "ratings"
    assert "Feedback" not in [m.label for m in at.metric]


def test_the_sample_play_counts_load_in_one_click():
    at = new_app()
    next(b for b in at.button if b.label == "Use the sample's play counts").click().run()
    assert not at.exception and not at.error
    assert metric(at, "Feedback") == "counts (implicit)" and metric(at, "Users") == "600"
    assert at.session_state["dataset"].name == "sample (play counts)"


def test_an_event_log_is_mapped_and_loaded_as_weighted_counts():
    events = (b"timestamp,visitorid,event,itemid\n" + b"".join(
        b"%d,%d,%s,%d\n" % (1433221332 + k, k % 9, (b"view", b"addtocart", b"transaction")[k % 3], k % 13)
        for k in range(120)))
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("events.csv", events, "text/csv")
    at.run()
    mapping = {s.label: s.value for s in at.selectbox}
    assert mapping["User id"] == "visitorid" and mapping["Event type (optional)"] == "event"
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error
    assert metric(at, "Feedback") == "counts (implicit)"
    assert at.session_state["dataset"].interactions["rating"].sum() == 40 * (1 + 3 + 5)


def test_an_event_log_with_a_quantity_column_can_be_declared_an_event_log():
    events = (b"timestamp,visitorid,event,itemid,quantity\n" + b"".join(
        b"%d,%d,%s,%d,%d\n" % (1433221332 + k, k % 9, (b"view", b"addtocart", b"transaction")[k % 3], k % 13, 2)
        for k in range(120)))
    at = new_app()
    at.file_uploader(key="upload_ratings").upload("events.csv", events, "text/csv")
    at.run()
    selects = {s.label: s for s in at.selectbox}
    assert selects["Rating (optional)"].value == "quantity"
    selects["Event type (optional)"].set_value("event").run()
    next(s for s in at.selectbox if s.label == "What the values are").set_value("events").run()
    assert any("Each row weighs its event type" in c for c in texts(at.caption))
    next(b for b in at.button if b.label == "Load these files").click().run()
    assert not at.exception and not at.error
    assert at.session_state["dataset"].interactions["rating"].sum() == 40 * (1 + 3 + 5)  # not 120 * 2
