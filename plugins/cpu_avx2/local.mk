# cpu_avx2: the x86-64 CPU backend plugin.
