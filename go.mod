module github.com/waitroom-idp/waitroom

go 1.26.8
