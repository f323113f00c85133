"""Device trees: DTS (dtlib) and DTB (our FDT codec) in, platforms out."""
