# unit tests of certs
