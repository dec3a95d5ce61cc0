# unit tests of gateway
