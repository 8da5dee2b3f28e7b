# embed.awk - turn a .cl file (ternary.cl, ops.cl) into a C file holding it
# as one string ocl_<name>_cl, so the opencl plugin carries its kernel
# source (see local.mk; awk -v name=ops, default ternary). Backslashes,
# quotes and question marks (trigraphs) are escaped character by character,
# which every awk does alike; every line keeps its newline.
BEGIN {
	if (name == "")
		name = "ternary"
	print "/* Generated from " name ".cl by embed.awk; do not edit. */"
	print "#include <build-config.h>"
	print ""
	print "#include \"ocl.h\""
	print ""
	print "const char ocl_" name "_cl[] ="
}
{
	out = ""
	n = length($0)
	for (i = 1; i <= n; i++) {
		c = substr($0, i, 1)
		if (c == "\\")
			c = "\\\\"
		else if (c == "\"")
			c = "\\\""
		else if (c == "?")
			c = "\\?"
		out = out c
	}
	print "\t\"" out "\\n\""
}
END {
	print "\t;"
	print "const size_t ocl_" name "_cl_len = sizeof ocl_" name "_cl - 1;"
}
