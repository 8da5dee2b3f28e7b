/*
 * api_convert.c - trit_convert() of the embedding API: the conversion to
 * GGUF itself lives in runtime/convert/.
 */
#include <build-config.h>

#include <trit/trit.h>

#include "convert/convert.h"

int trit_convert(const struct trit_convert_options *o, struct trit_convert_result *res,
                 char *err, size_t errlen)
{
	return cv_convert(o, res, err, errlen);
}
