// A C++ worker (std::thread) waiting forever on a std::condition_variable:
// the report must show demangled C++ names in the park stack.
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace pool
{

class Worker
{
  public:
    void run()
    {
        pthread_setname_np(pthread_self(), "cppworker");
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return ready_; }); // nobody ever sets ready_
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool ready_ = false;
};

} // namespace pool

int main()
{
    // Never destroyed: glibc's pthread_cond_destroy (run by a static destructor)
    // would wait for the parked waiter and hang the exit.
    pool::Worker *w = new pool::Worker;
    std::thread t(&pool::Worker::run, w);
    t.detach();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return 0;
}
