"""Everything that changes a restore: requesting one (`requests.py`, `rehearsals.py`), sending
it to the cloud (`submission.py`), following it (`tracking.py`) and deleting a rehearsal's
temporary instance (`cleanup.py`)."""
