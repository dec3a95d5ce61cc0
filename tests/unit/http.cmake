# unit tests of http: the HTTP/1.1 parser and serializer
agw_unit_test(test_http test_http.c)
