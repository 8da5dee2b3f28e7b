# embed.awk - turn ternary.cl into a C file holding it as one string, so the
# opencl plugin carries its kernel source (see local.mk). Backslashes, quotes
# and question marks (trigraphs) are escaped character by character, which
# every awk does alike; every line keeps its newline.
BEGIN {
	print "/* Generated from ternary.cl by embed.awk; do not edit. */"
	print "#include <build-config.h>"
	print ""
	print "#include \"ocl.h\""
	print ""
	print "const char ocl_ternary_cl[] ="
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
	print "const size_t ocl_ternary_cl_len = sizeof ocl_ternary_cl - 1;"
}
