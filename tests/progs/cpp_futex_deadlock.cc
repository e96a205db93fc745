// A C++20 deadlock through libstdc++'s futex waits: main waits in
// std::future::get for a result that "worker" sets only after a std::latch
// opens, and the latch needs main's count_down, which comes after the get.
// Every thread waits forever: `parkwatch run` must stop the process.  alarm()
// bounds the run when nobody watches.
#include <future>
#include <latch>
#include <thread>

#include <pthread.h>
#include <unistd.h>

namespace
{

std::latch go(1);

void worker(std::promise<int> result)
{
    pthread_setname_np(pthread_self(), "worker");
    go.wait();
    result.set_value(42);
}

} // namespace

int main()
{
    alarm(20);
    pthread_setname_np(pthread_self(), "main");
    std::promise<int> p;
    std::future<int> f = p.get_future();
    std::thread t(worker, std::move(p));
    int v = f.get(); // the bug: waits before opening the latch
    go.count_down();
    t.join();
    return v == 42 ? 1 : 2; // unreachable
}
