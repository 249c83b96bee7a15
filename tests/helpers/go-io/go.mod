module goio

go 1.19
