# unit tests of sim
agw_unit_test(test_farm test_farm.c LIBS agw_sim_lib)
