#include "aws_env.h"

#include <stdlib.h>
#include <strings.h>

const char *mlpz_aws_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int mlpz_aws_env_true(const char *name)
{
    const char *v = mlpz_aws_env(name);
    return v && strcasecmp(v, "true") == 0;
}

double mlpz_aws_env_number(const char *name, double dflt, double lo, double hi)
{
    const char *v = mlpz_aws_env(name);
    char *end;
    double d = v ? strtod(v, &end) : dflt;
    return v && (*end || !(d >= lo && d <= hi)) ? dflt : d;
}

int mlpz_aws_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}
