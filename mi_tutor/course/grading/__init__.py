"""Grading a class (``mi-tutor autograde``), one module per concern.

* :mod:`.coordinator`: finds submissions, farms them out, alone writes the gradebook;
* :mod:`.worker`: grades one submission in a scratch course (locally or on a Dask worker);
* :mod:`.sandbox`: the bubblewrap sandbox and resource limits of the student's kernel;
* :mod:`.limits`: time, memory and thread limits, derived from the lesson's reference run;
* :mod:`.tricks`: the static scan that flags tampering and delegation;
* :mod:`.records`: checksums of graded submissions (resumable runs), integrity check.

Submodules are imported on use: the sandbox launcher runs as a bare script and the
worker as ``python -m``, neither should pay for the rest.
"""

__all__: list[str] = []
