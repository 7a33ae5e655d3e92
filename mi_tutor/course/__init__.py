"""Course tooling: student release, nbgrader course, autograding, self-check, site."""
