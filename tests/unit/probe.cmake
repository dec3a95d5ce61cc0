# unit tests of the probe engineer: SNI/Host rules and the pure parts of
# the prober (its network side is covered by tests/e2e/test_probe*.py).
agw_unit_test(test_sni test_sni.c ${CMAKE_SOURCE_DIR}/gateway/sni.c)
agw_unit_test(test_probe test_probe.c ${CMAKE_SOURCE_DIR}/gateway/probe.c
	${CMAKE_SOURCE_DIR}/gateway/sni.c ${CMAKE_SOURCE_DIR}/gateway/health.c)
