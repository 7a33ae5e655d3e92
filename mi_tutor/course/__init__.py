"""Course tooling: student release, nbgrader course, autograding, self-check, site.

Every lesson's locked setup cell calls :func:`.setup.setup_lesson` and its last cell records its
numbers with :func:`.results.record`; the rest is the ``mi-tutor`` command (build, release,
course, autograde, check, site) that instructors and the test suite run."""
