# safetensors: build rules (sources added to libtrit, tests, fuzz target).
