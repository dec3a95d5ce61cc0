# unit tests of gateway: routing, load balancing, health table, metrics.
# The modules are compiled in directly; they are not part of agw_core.
agw_unit_test(test_route test_route.c ${CMAKE_SOURCE_DIR}/gateway/route.c)
agw_unit_test(test_health test_health.c ${CMAKE_SOURCE_DIR}/gateway/health.c)
agw_unit_test(test_lb test_lb.c ${CMAKE_SOURCE_DIR}/gateway/lb.c
	${CMAKE_SOURCE_DIR}/gateway/health.c)
agw_unit_test(test_metrics test_metrics.c
	${CMAKE_SOURCE_DIR}/gateway/metrics.c)
