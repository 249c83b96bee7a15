/* bench-server: a small TCP server on 127.0.0.1:PORT that answers N connections ("ok\n" to each
 * line) and exits. Prints "ready" once it listens. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 128) < 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    for (long i = 0; i < atol(argv[2]); i++) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char buf[64];
        if (read(c, buf, sizeof(buf)) > 0 && write(c, "ok\n", 3) != 3)
            perror("write");
        close(c);
    }
    return 0;
}
