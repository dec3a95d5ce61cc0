# unit tests of sim
