"""Grading a class (``mi-tutor autograde``), one module per concern.

* :mod:`.coordinator`: finds submissions, farms them out, alone writes the gradebook;
* :mod:`.worker`: grades one submission in a scratch course (locally or on a Dask worker);
* :mod:`.sandbox`: the bubblewrap sandbox and resource limits of the student's kernel;
* :mod:`.limits`: time, memory and thread limits, derived from the lesson's reference run;
* :mod:`.executor` and :mod:`.harness`: hidden tests last, the grader's own cells, tamper evidence;
* :mod:`.policy`: which autograded cells tamper evidence scores 0, and the comment that says why;
* :mod:`.tricks`: the static scan that flags tampering and delegation (review only);
* :mod:`.records`: checksums of graded submissions (resumable runs), integrity check.

Submodules are imported on use: the sandbox launcher runs as a bare script and the
worker as ``python -m``, neither should pay for the rest.
"""

__all__: list[str] = []
