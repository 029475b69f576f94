"""Adoption: a project or job made elsewhere, or lost from the state, recorded from what the API
proves. One place for the evidence every adopter reads:

- `records.py`: a project's evidence (projects API details, its jobs in the 30-day history) and
  the record apply would have written for it (`adopted_record`), used by `import`,
  `state rebuild` and the evidence checked before any create (workspace/existing.py);
- `rebuild.py`: `state rebuild`'s search for each declared project (`Rebuilder`), and how its
  agent jobs are assigned to steps.

The commands around them are the workspace layer's thin shells (I/O, the lock, the journal):
`workspace/adopting.py` (`import`, `state rebuild`), `workspace/job_adoption.py`
(`state adopt`). Apply's resolver settles its own in-doubt jobs (apply/resolve.py,
apply/evidence.py) and depends on nothing here; this package depends on it (its history reader
and job order), never the other way.
"""
