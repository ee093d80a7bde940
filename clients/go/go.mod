module weft.dev/client

go 1.19
