/* Runs a program with an environment that defines ML_DUP twice and holds an entry without '='
 * (execve takes any strings; setenv-based tools cannot make these). Usage: ml_dupenv PROG [ARGS...] */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ml_dupenv PROG [ARGS...]\n");
		return 64;
	}
	char *env[] = { "ML_DUP=first", "ML_NOEQ", "ML_DUP=second", "PATH=/usr/bin:/bin", NULL };
	execve(argv[1], argv + 1, env);
	perror("execve");
	return 127;
}
