/* placeholder replaced by the test-tool work */
int main(void) { return 0; }
